-- expect: unknown global 'os'
os.execute("touch /tmp/casekit-pwned")
