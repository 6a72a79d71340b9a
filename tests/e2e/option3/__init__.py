"""option3 in the VM: faults and engineers' tools on one running lab."""
