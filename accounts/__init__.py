"""Staff accounts, roles, second factor, audit trail and the protection of identity data."""
