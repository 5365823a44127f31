"""pytest plugin (entry point ``falcon_pachinko``): fixtures for users' tests."""
