"""caffe2tf: read Caffe models (any format version) and emit equivalent TensorFlow models.

Importing this package must not import TensorFlow: only `caffe2tf.emit` and
`caffe2tf.convert` do.
"""
