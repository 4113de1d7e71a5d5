namespace Basin.Data;

/// <summary>Which part of a data set: the training examples or the held-out test examples.</summary>
public enum Split { Train, Test }
