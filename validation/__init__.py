"""Validation of converted models against independent Caffe runtimes (OpenCV dnn, real Caffe)."""
