"""Testing utilities for falcon-pachinko applications."""
