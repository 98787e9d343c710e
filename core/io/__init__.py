"""Rasters without a library: the reader/writer interfaces, spectral metadata and ENVI headers, atomic files and output
checks, grids; and the rasterio/fiona implementation the command line uses."""
