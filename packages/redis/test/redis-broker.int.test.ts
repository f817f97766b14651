import { describeBrokerConformance } from '@celeriac/broker/conformance';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

describeBrokerConformance('redis', () => redis.createBroker());
