"""Accounts: people who sign in, their roles, and (for parents) their family."""
