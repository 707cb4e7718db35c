"""performer: a real-time audiovisual instrument built on few-step diffusion."""

__version__ = "0.1.0"
