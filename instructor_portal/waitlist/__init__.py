"""The waiting list: families waiting for a full course, offered places in turn as they free up."""
