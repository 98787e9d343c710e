"""The "HyperSNN" Processing provider (id `hypersnn`): train, classify, assess, energy, workflow, sample, batch."""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..core.assets import ICON_PATH


class HyperSNNProvider(QgsProcessingProvider):
    def id(self):
        return "hypersnn"

    def name(self):
        return "HyperSNN"

    def longName(self):
        return "HyperSNN: hyperspectral classification with quantized spiking neural networks"

    def icon(self):
        return QIcon(ICON_PATH)

    def svgIconPath(self):
        return ICON_PATH

    def versionInfo(self):
        try:
            from ..core import __version__

            return __version__
        except Exception:  # noqa: BLE001
            return ""

    def supportedOutputRasterLayerExtensions(self):
        return ["tif"]

    def defaultRasterFileExtension(self):
        return "tif"

    def supportedOutputVectorLayerExtensions(self):
        return ["gpkg"]

    def defaultVectorFileExtension(self, hasGeometry=True):
        return "gpkg"

    def loadAlgorithms(self):
        from .algorithms.assess import AssessAlgorithm
        from .algorithms.batch import BatchAlgorithm
        from .algorithms.classify import ClassifyAlgorithm
        from .algorithms.energy import EnergyAlgorithm
        from .algorithms.sample import SampleAlgorithm
        from .algorithms.train import TrainAlgorithm
        from .algorithms.workflow import WorkflowAlgorithm

        for alg in (TrainAlgorithm(), ClassifyAlgorithm(), AssessAlgorithm(), EnergyAlgorithm(), WorkflowAlgorithm(),
                    SampleAlgorithm(), BatchAlgorithm()):
            self.addAlgorithm(alg)
