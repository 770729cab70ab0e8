"""Demo data for ``flask seed-demo``: a small, realistic organisation."""


def seed() -> list[str]:
    return []
