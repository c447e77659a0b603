"""The scheduling plugin's refusal, shared by its services, documents and views."""


class SchedulingError(Exception):
    """A refused change; ``str(err)`` is already translated; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
