"""zoo2tf: the Caffe Model Zoo, converted nightly into verified TensorFlow models."""

__version__ = "0.1.0"
