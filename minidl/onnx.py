"""torch.onnx's place, so `import torch.onnx` in a swapped program imports. minidl writes
no ONNX: export raises and says so."""


def export(*args, **kwargs):
    raise NotImplementedError("minidl.onnx.export: minidl does not write ONNX files; convert "
                              "the model with minidl.bridge.to_torch and use torch.onnx.export")


def is_in_onnx_export() -> bool:
    return False
