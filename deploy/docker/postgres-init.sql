-- One database per service: no service reads another's tables.
CREATE DATABASE park_metering;
CREATE DATABASE park_carbon;
CREATE DATABASE park_dispatch;
CREATE DATABASE park_reporting;
