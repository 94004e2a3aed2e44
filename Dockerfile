# syntax=docker/dockerfile:1
# One image for every dnsrace process on kind: the operators (dnsrace.planner, dnsrace.enactor,
# dnsrace.scenario) and the mock services (mockaws.store, mockaws.frontend, mockaws.dwfm, ...).
# The entrypoint is `python -m`; each Deployment names its module in `args`:
#   args: [dnsrace.planner]            ->  python -m dnsrace.planner
#   args: [mockaws.dwfm, --port, ...]  ->  python -m mockaws.dwfm --port ...
#
#   docker build -t dnsrace:dev .      (what `make kind-up` runs)
#
# The base is pinned by tag (Python 3.11, as pyproject.toml requires). Whoever has registry
# access should pin its digest as well:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
#   then: ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: a wheel of the project and of every pinned dependency ---------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY services ./services
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime: a virtual environment holding exactly those wheels --------------------------------
# No compilers, no build tools, no pip inside the venv, nothing of the build stage but what the
# wheels install (they are bind-mounted, not copied, so they leave no layer behind).
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --no-index \
        --find-links /wheels /wheels/dnsrace-*.whl \
    && python -m dnsrace.permissions > /dev/null
# A numeric non-root user (no passwd entry needed): the pods' runAsUser/runAsNonRoot match it.
USER 65532:65532
ENTRYPOINT ["python", "-m"]
CMD ["dnsrace.planner"]
