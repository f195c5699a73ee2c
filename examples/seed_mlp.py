"""The seed slides' autograd MLP, run unchanged but for the import: `import tinyad.numpy as np`.

A tanh network trained by gradient descent on a toy regression, with autograd's idioms: a list of (W, b)
tuples as parameters, np.dot, np.tanh, np.random for the initialisation, and grad of the loss.
"""

import tinyad.numpy as np  # was: import autograd.numpy as np
from tinyad import grad  # was: from autograd import grad


def init_random_params(scale, layer_sizes, rs=np.random.RandomState(0)):  # noqa: B008 (the seed's idiom)
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs


def loss(params, inputs, targets):
    return np.mean((neural_net_predict(params, inputs) - targets) ** 2)


def main(steps=300, step_size=0.05):
    rs = np.random.RandomState(1)
    inputs = np.linspace(-3, 3, 40).reshape(40, 1)
    targets = np.cos(inputs) + 0.05 * rs.randn(40, 1)
    params = init_random_params(0.5, [1, 20, 20, 1])
    loss_grad = grad(loss)
    first = loss(params, inputs, targets)
    for i in range(steps):
        g = loss_grad(params, inputs, targets)
        params = [(W - step_size * dW, b - step_size * db) for (W, b), (dW, db) in zip(params, g)]
    last = loss(params, inputs, targets)
    print(f"training loss {first:.4f} -> {last:.4f}")
    return first, last


if __name__ == "__main__":
    main()
