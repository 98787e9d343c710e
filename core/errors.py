"""The project's own error types: every user-facing failure is one of these, with an actionable message."""


class HyperSNNError(Exception):
    """Base class: anything the engine refuses on purpose."""


class InputError(HyperSNNError):
    """Bad user input: a file, band, field or setting that cannot be used as given."""


class RasterError(InputError):
    """A raster that cannot be read or does not fit the job (names the file and band)."""


class LabelError(InputError):
    """Training/reference labels that cannot be used (names the file, field or class)."""


class SplitError(InputError):
    """A train/validation/test split that cannot be made as asked."""


class ModelFileError(HyperSNNError):
    """A model file that is truncated, corrupt, of another format, or too new."""


class ModelMismatchError(InputError):
    """A model that does not fit the raster it is applied to (bands, wavelengths)."""


class OutputError(InputError):
    """An output path that cannot be written safely."""


class Canceled(HyperSNNError):
    """The user canceled a long job; nothing partial is left behind."""
