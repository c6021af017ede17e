"""The pages of accounts, a module per noun."""
