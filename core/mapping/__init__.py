"""Classifying rasters window by window (predict.py) and assessing a model on a raster (evaluation.py)."""
