"""Caffe schema (caffe.proto) and its generated module caffe_pb2 (regenerate: scripts/gen_proto.sh)."""
