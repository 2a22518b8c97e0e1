"""The store's one exception, apart so every store module can raise it without a cycle."""


class StoreError(Exception):
    """A database the store cannot use, or a plan it does not hold."""
