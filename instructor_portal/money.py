"""Money in integer minor units, shown in the organisation's currency."""

from decimal import Decimal

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_money(pence: int, currency: str = "GBP") -> str:
    """Render ``pence`` as "£12.50" (or "12.50 CHF" where no symbol is known)."""
    sign = "-" if pence < 0 else ""
    major, minor = divmod(abs(pence), 100)
    amount = f"{major:,}.{minor:02d}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"


def to_pence(pounds: Decimal) -> int:
    """An amount typed in pounds (at most two decimal places, as the money fields check) in minor units."""
    return int(pounds * 100)


def to_pounds(pence: int) -> Decimal:
    """Minor units as an exact Decimal of pounds, for form fields and exports."""
    return Decimal(pence) / 100
