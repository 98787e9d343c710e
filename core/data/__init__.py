"""From labels and pixels to what the trainer consumes: labels and class tables, band selection, splits, spatial units,
sampling, benchmark scenes, valid pixels, preprocessing, patches, prepare."""
