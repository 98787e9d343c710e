"""HyperSNN QGIS plugin: hyperspectral classification with quantized spiking neural networks."""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    """QGIS entry point: build the plugin object for this QGIS interface."""
    from .ui.plugin import HyperSNNPlugin

    return HyperSNNPlugin(iface)
