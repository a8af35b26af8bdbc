import { describe } from 'vitest';
import { aliyunHarness, tencentHarness, twilioHarness } from './harnesses.js';
import { describeSmsProviderConformance } from './provider.conformance.js';

describe('Tencent Cloud SMS through its fake', () => describeSmsProviderConformance(tencentHarness));
describe('Aliyun SMS through its fake', () => describeSmsProviderConformance(aliyunHarness));
describe('Twilio through its fake', () => describeSmsProviderConformance(twilioHarness));
