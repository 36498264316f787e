"""ResNet v1 for CIFAR (He et al. 2016), as the Keras ``cifar10_resnet`` example builds it.

conv3x3-BN-ReLU stem with 16 filters; three stages of ``n = (depth - 2) / 6``
basic blocks with 16/32/64 filters; a 1x1 convolution (no BN) projects the
shortcut where the shape changes; global average pooling; dense softmax.
Glorot-uniform initialisation (the paper) and L2 1e-4 on every conv and
dense kernel (see the book's Method page).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .recipe import INITIALIZER, WEIGHT_DECAY


def check_depth(depth) -> int:
    """Return ``n`` blocks per stage, or raise if depth is not 6n+2 (n >= 1)."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) \
            or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth={depth!r} is not of the form 6n+2 with n >= 1 "
                         "(accepted: 8, 14, 20, 26, 32, 38, 44, 50, 56, ...)")
    return (int(depth) - 2) // 6


def _conv_bn(x, filters, kernel_size=3, strides=1, activation=True, batch_norm=True,
             initializer=INITIALIZER):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                      kernel_initializer=initializer,
                      kernel_regularizer=keras.regularizers.L2(WEIGHT_DECAY))(x)
    if batch_norm:
        x = layers.BatchNormalization()(x)
    if activation:
        x = layers.Activation("relu")(x)
    return x


def resnet_v1(depth: int = 20, num_classes: int = 10, batch_norm: bool = True,
              input_shape=(32, 32, 3), initializer: str = INITIALIZER) -> keras.Model:
    """ResNet``depth`` v1 for 32x32 images; ``batch_norm=False`` drops every BN layer."""
    n = check_depth(depth)
    inputs = keras.Input(shape=input_shape)
    x = _conv_bn(inputs, 16, batch_norm=batch_norm, initializer=initializer)
    filters = 16
    for stage in range(3):
        for block in range(n):
            strides = 2 if stage > 0 and block == 0 else 1
            y = _conv_bn(x, filters, strides=strides, batch_norm=batch_norm,
                         initializer=initializer)
            y = _conv_bn(y, filters, activation=False, batch_norm=batch_norm,
                         initializer=initializer)
            if strides != 1:
                x = _conv_bn(x, filters, kernel_size=1, strides=strides, activation=False,
                             batch_norm=False, initializer=initializer)
            x = layers.Activation("relu")(layers.add([x, y]))
        filters *= 2
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=initializer,
                           kernel_regularizer=keras.regularizers.L2(WEIGHT_DECAY))(x)
    bn = "" if batch_norm else "_nobn"
    return keras.Model(inputs, outputs, name=f"resnet{depth}_v1{bn}")


def count_bn_layers(model: keras.Model) -> int:
    return sum(isinstance(layer, layers.BatchNormalization) for layer in model.layers)


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray,
             batch_size: int = 1000) -> tuple[float, float]:
    """(top-1 accuracy in [0, 1], fraction of images whose output is not finite).

    Non-finite outputs happen e.g. when noise makes a BN moving variance negative;
    such an image counts as misclassified unless arg-max happens to hit its label.
    """
    p = model.predict(x, batch_size=batch_size, verbose=0)
    acc = float(np.mean(np.argmax(p, axis=-1) == np.asarray(y).reshape(-1)))
    return acc, float(np.mean(~np.all(np.isfinite(p), axis=-1)))


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Top-1 test accuracy in [0, 1]."""
    return evaluate(model, x, y, batch_size)[0]
