"""Code written against the published falcon-pachinko API, run unchanged (DESIGN §6.3)."""
