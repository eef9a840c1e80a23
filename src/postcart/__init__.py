"""postcart: living, checkable evidence on lymphoma that relapses after CD19 CAR T-cell therapy.

For research and education only; never a substitute for a treating physician's judgement.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
