"""thidua: batch processor for emulation campaigns of Vietnamese government offices."""

__version__ = "0.1.0"
