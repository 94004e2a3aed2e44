# The lab image's base when Docker Hub is out of reach: Debian's Python 3.11 (the version
# pyproject.toml requires) with venv and pip, on the debootstrap base. The Dockerfile at the
# repository's root takes it as PYTHON_IMAGE. HOST_CA is the bundle the host's own pip trusts
# (a machine behind a TLS-inspecting proxy needs it to reach PyPI during `docker build`).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       python3.11 python3.11-venv python3-pip python-is-python3 ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY host-ca.crt /etc/dnsrace/host-ca.crt
ENV PIP_CERT=/etc/dnsrace/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1
