"""Messages to a group: an instructor or organiser writes to the families on a course or one of its sessions."""
