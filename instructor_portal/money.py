"""Money in integer minor units, shown in the organisation's currency."""

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_money(pence: int, currency: str = "GBP") -> str:
    """Render ``pence`` as "£12.50" (or "12.50 CHF" where no symbol is known)."""
    sign = "-" if pence < 0 else ""
    major, minor = divmod(abs(pence), 100)
    amount = f"{major:,}.{minor:02d}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"
