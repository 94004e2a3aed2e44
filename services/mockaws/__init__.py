"""Mock AWS services that depend on the DynamoDB regional endpoint: DynamoDB front-ends, EC2's
lease manager (DWFM), Network Manager, the NLB health checker and client traffic."""
