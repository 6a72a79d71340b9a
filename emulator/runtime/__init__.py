"""Where routers live: namespaces on this kernel, or namespaces inside the micro-VM.

Every runtime deploys the same rendered files and answers the same questions: run a
command on a router, tell what runs, tear everything down.
"""
