"""Reading real images: preprocessing, segmentation and the one `Predictor`."""
