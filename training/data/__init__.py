"""Training data: loaders and generators of 3D poses (real mocap files, synthetic skeletons)."""
