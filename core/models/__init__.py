"""A trained model: the torch model, its file (zip of JSON + npz), the checked record read without torch, the inference
engines (torch, ONNX Runtime) and the ONNX graph."""
