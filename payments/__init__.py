"""Payments: stipend plans, the monthly disbursement run, payouts, one-off payments, the ledger."""
