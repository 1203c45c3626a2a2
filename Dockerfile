# One image for every process of the assistant (Rasa, the action server, the
# gateway); docker-compose.yml picks the command. Python 3.10: Rasa 3.6's only.
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY . .
# The model is trained into the image: every replica answers the same way.
RUN rasa train --fixed-model-name assistant --out models \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin assistant \
    && mkdir -p var && chown assistant var
USER assistant
EXPOSE 8080
CMD ["python", "-m", "bot"]
