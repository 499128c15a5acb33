"""voice-interview: a spoken mock-interview trainer that runs offline at your desk."""

__version__ = "0.1.0"
