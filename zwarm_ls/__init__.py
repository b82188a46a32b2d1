"""zwarm-ls: delegate coding tasks to background agents and supervise them from the editor."""

__version__ = "0.1.0"
