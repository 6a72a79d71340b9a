#!/usr/bin/env python3
"""Send one command over BIRD's control socket and print the raw reply
(with numeric reply codes), e.g.: rawsock.py /path/x.ctl 'show protocols all'"""
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile('rb')
def read_reply():
    out = []
    while True:
        line = f.readline().decode()
        out.append(line)
        # final line: 4 digits + space (e.g. '0000 ', '0001 BIRD ready', '8001 ...')
        if len(line) >= 5 and line[:4].isdigit() and line[4] == ' ':
            return ''.join(out)
read_reply()                       # greeting: 0001 BIRD 2.17.6 ready.
s.sendall((sys.argv[2] + '\n').encode())
sys.stdout.write(read_reply())
