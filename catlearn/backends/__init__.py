"""Array kernels that the functors call.

- :mod:`catlearn.backends.jax_ops`: dense JAX kernels of the smooth
  generators (forward and reverse), written for a batch on axis 0.
"""
