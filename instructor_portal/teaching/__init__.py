"""Teaching: the instructor's dashboard and course editing, under /teach."""
