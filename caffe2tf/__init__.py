"""caffe2tf: read Caffe models (any format version) and emit equivalent TensorFlow models.

Importing this package must not import TensorFlow: only `caffe2tf.emit` and
`caffe2tf.convert` do. Bump __version__ when converted output changes: the nightly run
reconverts every model whose last conversion used another version.
"""

__version__ = "0.1.0"
