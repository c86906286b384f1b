"""Pure-Python core: no Qt, no sockets. Enforced by the import-linter contracts in pyproject.toml."""
