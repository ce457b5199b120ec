"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, LBFGS) and learning-rate schedulers, with PyTorch's formulas.

    opt = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss.backward(); opt.step(); opt.zero_grad()
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .adaptive import RMSprop, Adagrad, Adadelta
from .lbfgs import LBFGS
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS",
           "lr_scheduler"]
