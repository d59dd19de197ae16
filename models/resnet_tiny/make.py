#!/usr/bin/env python3
"""Write resnet_tiny.onnx: a ResNet-style graph with random weights, built node by node with
the `onnx` package (apt-get install python3-onnx; run with /usr/bin/python3 from the
repository root), and inputs.npy, a few random inputs for it.

  stem    Conv 3->8, 3x3, stride 2, pad 1, BatchNormalization, Relu     16x16 -> 8x8
          MaxPool 2x2, stride 2                                         8x8 -> 4x4
  block1  Conv 8->8 3x3, BN, Relu, Conv 8->8 3x3, BN, Add (identity), Relu
  block2  Conv 8->16 3x3, BN, Relu, Conv 16->16 3x3, BN,
          Add (1x1 projection Conv 8->16 of the block's input), Relu
  dw      depthwise Conv 16 groups, 3x3, pad 1, Relu
  head    GlobalAveragePool, Flatten, Gemm 16->10, Softmax

Seeded, so a rerun writes the same files.
"""

import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)
nodes, inits = [], []


def param(name, shape, scale):
    inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
    return name


def conv(name, x, cin, cout, k, stride=1, pad=None, groups=1, bias=True):
    pad = k // 2 if pad is None else pad
    fan_in = cin // groups * k * k
    ins = [x, param(name + ".w", (cout, cin // groups, k, k), (2.0 / fan_in) ** 0.5)]
    if bias:
        ins.append(param(name + ".b", (cout,), 0.1))
    nodes.append(helper.make_node("Conv", ins, [name], name=name, kernel_shape=[k, k],
                                  strides=[stride, stride], pads=[pad] * 4, group=groups))
    return name


def bn(name, x, c):
    inits.append(numpy_helper.from_array((1 + 0.1 * rng.standard_normal(c)).astype(np.float32), name + ".scale"))
    inits.append(numpy_helper.from_array((0.1 * rng.standard_normal(c)).astype(np.float32), name + ".bias"))
    inits.append(numpy_helper.from_array((0.1 * rng.standard_normal(c)).astype(np.float32), name + ".mean"))
    inits.append(numpy_helper.from_array((1 + 0.2 * rng.random(c)).astype(np.float32), name + ".var"))
    nodes.append(helper.make_node("BatchNormalization",
                                  [x, name + ".scale", name + ".bias", name + ".mean", name + ".var"],
                                  [name], name=name, epsilon=1e-5))
    return name


def op(kind, name, ins, **attrs):
    nodes.append(helper.make_node(kind, ins, [name], name=name, **attrs))
    return name


v = op("Relu", "stem_relu", [bn("stem_bn", conv("stem_conv", "input", 3, 8, 3, stride=2, bias=False), 8)])
v = op("MaxPool", "stem_pool", [v], kernel_shape=[2, 2], strides=[2, 2])
b1 = op("Relu", "b1_relu1", [bn("b1_bn1", conv("b1_conv1", v, 8, 8, 3, bias=False), 8)])
b1 = bn("b1_bn2", conv("b1_conv2", b1, 8, 8, 3, bias=False), 8)
v = op("Relu", "b1_relu2", [op("Add", "b1_add", [b1, v])])
b2 = op("Relu", "b2_relu1", [bn("b2_bn1", conv("b2_conv1", v, 8, 16, 3, bias=False), 16)])
b2 = bn("b2_bn2", conv("b2_conv2", b2, 16, 16, 3, bias=False), 16)
proj = conv("b2_proj", v, 8, 16, 1, pad=0)
v = op("Relu", "b2_relu2", [op("Add", "b2_add", [b2, proj])])
v = op("Relu", "dw_relu", [conv("dw_conv", v, 16, 16, 3, groups=16)])
v = op("GlobalAveragePool", "gap", [v])
v = op("Flatten", "flatten", [v], axis=1)
v = op("Gemm", "fc", [v, param("fc.w", (10, 16), 0.25), param("fc.b", (10,), 0.1)], transB=1)
op("Softmax", "probs", [v], axis=1)

graph = helper.make_graph(
    nodes, "resnet_tiny",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 16, 16])],
    [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 10])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="models/resnet_tiny/make.py")
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "resnet_tiny.onnx"))
np.save(os.path.join(HERE, "inputs.npy"), rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
print(f"wrote resnet_tiny.onnx ({len(nodes)} nodes) and inputs.npy (4 inputs)")
