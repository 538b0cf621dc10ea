"""Code of the stack's custom resources: each module is one Lambda handler, inlined into its function at synth."""
