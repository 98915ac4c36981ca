#!/usr/bin/env bash
# Regenerates caffe2tf/proto/caffe_pb2.py from caffe2tf/proto/caffe.proto with the
# protoc bundled in grpcio-tools (so the generated code matches the pinned protobuf).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
"$PY" -m grpc_tools.protoc -I caffe2tf/proto --python_out=caffe2tf/proto caffe2tf/proto/caffe.proto
