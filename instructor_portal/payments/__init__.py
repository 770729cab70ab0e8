"""Payments: card payments through Stripe Checkout, offline payments, refunds and vouchers."""
